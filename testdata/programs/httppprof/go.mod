module goblock.test/httppprof

go 1.19
