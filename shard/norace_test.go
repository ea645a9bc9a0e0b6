//go:build !race

package shard

// raceEnabled says the tests run with -race, whose shadow memory makes
// resident memory no measure of the store's own.
const raceEnabled = false
