module goblock.test/snippets

go 1.25
