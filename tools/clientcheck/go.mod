module clientcheck

go 1.26
