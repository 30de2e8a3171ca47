module goblock.test/service

go 1.22
