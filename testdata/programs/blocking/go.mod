module goblock.test/blocking

go 1.19
