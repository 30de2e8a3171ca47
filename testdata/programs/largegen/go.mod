module goblock.test/largegen

go 1.19
