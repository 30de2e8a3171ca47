module goblock.test/shop

go 1.22
