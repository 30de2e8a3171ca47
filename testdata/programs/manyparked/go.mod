module goblock.test/manyparked

go 1.19
