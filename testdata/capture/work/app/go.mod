module goblock.test/app

go 1.22
