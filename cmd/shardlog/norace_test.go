//go:build !race

package main

// raceEnabled says the tests run with -race, so the smoke tests build the
// daemon with it too.
const raceEnabled = false
