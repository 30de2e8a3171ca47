module goblock.test/notstarted

go 1.19
