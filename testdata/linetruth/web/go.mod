module goblock.test/webd

go 1.19
