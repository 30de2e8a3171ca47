module example.com/app

go 1.21

require example.com/dep v1.2.3
