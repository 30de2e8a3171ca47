module goblock.test/pathmap

go 1.19
