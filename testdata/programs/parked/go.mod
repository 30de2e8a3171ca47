module goblock.test/parked

go 1.19
