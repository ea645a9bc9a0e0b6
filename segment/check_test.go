package segment

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// dirFiles returns the content of every file in dir by name.
func dirFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

func sameFiles(t *testing.T, before, after map[string][]byte) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("files %d, were %d", len(after), len(before))
	}
	for name, b := range before {
		if !bytes.Equal(b, after[name]) {
			t.Fatalf("%s changed", name)
		}
	}
}

// TestCheckWritesNothing damages a segment in the ways Open would repair
// (a missing or wrong index, a torn tail) and checks that OpenReadOnly and
// Check report the damage and leave every file as it was.
func TestCheckWritesNothing(t *testing.T) {
	f := func(name string, damage func(t *testing.T, dir string), want ...DamageKind) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(t)
			s := mustCreate(t, dir, 0, o)
			mustAppend(t, s, records(0, 300, 100))
			must(t, s.Close())
			damage(t, dir)
			before := dirFiles(t, dir)

			res := Check(dir, 0, o)
			var kinds []DamageKind
			for _, d := range res.Damage {
				kinds = append(kinds, d.Kind)
			}
			if len(kinds) != len(want) || (len(want) > 0 && kinds[0] != want[0]) || res.Records != 300 {
				t.Fatalf("Check: %d records, damage %+v; want 300 records, damage kinds %v", res.Records, res.Damage, want)
			}

			ro, err := OpenReadOnly(dir, 0, o)
			must(t, err)
			checkAll(t, ro, records(0, 300, 100))
			if _, err := ro.Append(records(300, 1, 100)); !errors.Is(err, ErrSealed) {
				t.Fatalf("Append to a read-only segment = %v", err)
			}
			if err := ro.Compress(); !errors.Is(err, ErrReadOnly) {
				t.Fatalf("Compress of a read-only segment = %v", err)
			}
			ro.Retire(true)
			sameFiles(t, before, dirFiles(t, dir))
		})
	}
	f("clean", func(*testing.T, string) {})
	f("index missing", func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, IndexName(0)))) }, DamageIndex)
	f("index entry wrong", func(t *testing.T, dir string) {
		p := filepath.Join(dir, IndexName(0))
		b, err := os.ReadFile(p)
		must(t, err)
		b[24+8]++ // the second entry's offset points into a frame
		must(t, os.WriteFile(p, b, 0o644))
	}, DamageIndex)
	f("torn tail", func(t *testing.T, dir string) {
		p := filepath.Join(dir, Name(0))
		fl, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		must(t, err)
		_, err = fl.Write([]byte{64, 0, 0, 0, 0xde, 0xad})
		must(t, err)
		must(t, fl.Close())
	}, DamageTail)
}
