module github.com/efmpi/efmpi

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0 // indirect
	github.com/btracey/mpi v0.0.0-20180226170127-03df54ac074b // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
	gonum.org/v1/hdf5 v0.0.0-20210714002203-8c5d23bc6946 // indirect
)
