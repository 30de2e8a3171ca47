module goblock.test/inventory

go 1.19
