package mcpserver

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/merlonsec/merlon/internal/report"
	"github.com/merlonsec/merlon/internal/scan"
)

// errNoScan is returned by store.get for an ID it does not hold.
var errNoScan = errors.New("no such scan")

// idPattern is the shape of every scan ID the store hands out. IDs name
// files in the store's directory, so anything else (a slash, "..") is
// refused before it gets near the file system.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// store keeps the reports of a server's scans: always in memory, and also
// as <id>.json files in dir when dir is set, so that scans outlive the
// process. The files are the json format's output, readable by
// `merlon report` and report.ReadJSON.
type store struct {
	dir string

	mu  sync.Mutex
	mem map[string]*scan.Report
}

func newStore(dir string) *store {
	return &store{dir: dir, mem: map[string]*scan.Report{}}
}

// newID returns a fresh scan ID: the UTC start time, so that IDs sort by
// age, and random bits, so that two scans in the same second differ.
func newID(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return strings.ToLower(now.UTC().Format("20060102t150405")) + "-" + hex.EncodeToString(b[:])
}

// put keeps rep under id, and saves it to dir when one is set. The report
// stays in memory even when saving fails; the error says why the file is
// missing.
func (s *store) put(id string, rep *scan.Report) error {
	s.mu.Lock()
	s.mem[id] = rep
	s.mu.Unlock()
	if s.dir == "" {
		return nil
	}
	if err := s.save(id, rep); err != nil {
		return fmt.Errorf("save scan %s: %w", id, err)
	}
	return nil
}

// save writes the report whole or not at all: a crash mid-write leaves a
// temporary file that list ignores, never a truncated <id>.json.
func (s *store) save(id string, rep *scan.Report) error {
	r, err := report.New("json", report.Options{})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := r.Render(&buf, rep); err != nil {
		return err
	}
	// Reports hold evidence (requests and responses), so only the user reads them.
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, ".scan-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(s.dir, id+".json"))
}

// get returns the report of scan id, from memory or from dir. It returns an
// error wrapping errNoScan when neither holds it.
func (s *store) get(id string) (*scan.Report, error) {
	if !idPattern.MatchString(id) {
		return nil, fmt.Errorf("scan id %q: %w", id, errNoScan)
	}
	s.mu.Lock()
	rep, ok := s.mem[id]
	s.mu.Unlock()
	if ok {
		return rep, nil
	}
	if s.dir == "" {
		return nil, fmt.Errorf("scan id %q: %w", id, errNoScan)
	}
	rep, err := readFile(filepath.Join(s.dir, id+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("scan id %q: %w", id, errNoScan)
	}
	if err != nil {
		return nil, fmt.Errorf("scan id %q: %w", id, err)
	}
	return rep, nil
}

// stored is one scan as list returns it.
type stored struct {
	id  string
	rep *scan.Report
}

// list returns every scan in memory and in dir, newest first. Files in dir
// that are not reports are skipped and named in the returned problems, so
// one bad file does not hide the others.
func (s *store) list() (scans []stored, problems []string, err error) {
	seen := map[string]bool{}
	s.mu.Lock()
	for id, rep := range s.mem {
		scans = append(scans, stored{id: id, rep: rep})
		seen[id] = true
	}
	s.mu.Unlock()
	if s.dir != "" {
		entries, err := os.ReadDir(s.dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("list scans in %s: %w", s.dir, err)
		}
		for _, e := range entries {
			id, ok := strings.CutSuffix(e.Name(), ".json")
			if !ok || e.IsDir() || !idPattern.MatchString(id) || seen[id] {
				continue
			}
			rep, err := readFile(filepath.Join(s.dir, e.Name()))
			if err != nil {
				problems = append(problems, fmt.Sprintf("skipped %s: %v", e.Name(), err))
				continue
			}
			scans = append(scans, stored{id: id, rep: rep})
		}
	}
	slices.SortFunc(scans, func(a, b stored) int {
		return cmp.Or(b.rep.StartedAt.Compare(a.rep.StartedAt), strings.Compare(b.id, a.id))
	})
	return scans, problems, nil
}

func readFile(path string) (*scan.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return report.ReadJSON(f)
}
