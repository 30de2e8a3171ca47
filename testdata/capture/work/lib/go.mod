module goblock.test/lib

go 1.22
