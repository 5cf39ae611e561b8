"""the benchmarks behind `make bench`"""
