// Command bench measures what a Merlon scan costs beyond the requests it
// sends. For each size N it serves a synthetic API of N operations
// (spectest.Server, with a configurable latency), scans it with the built
// merlon binary as a child process, logs every request the scan made, and
// replays exactly that list with a minimal Go client at the same
// concurrency: the floor. Overhead is merlon's wall time over the floor's.
// It also times loading a 10 MB spec in a child process, for its peak
// memory. Results are printed as a Markdown table; docs/performance.md
// holds a run and the command to reproduce it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	merlon      string
	sizes       []int
	latency     time.Duration
	concurrency int
	specOps     int
	runs        int
	loadSpec    string // child mode: load this spec and exit
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	var sizes string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.merlon, "merlon", "", "merlon binary to measure (default: build ./cmd/merlon into a temporary directory)")
	fs.StringVar(&sizes, "n", "10,100,1000,10000", "comma-separated operation counts of the synthetic API")
	fs.DurationVar(&o.latency, "latency", 5*time.Millisecond, "how long the synthetic API waits before each answer")
	fs.IntVar(&o.concurrency, "c", 8, "requests in flight, for merlon (--concurrency) and the floor alike")
	fs.IntVar(&o.specOps, "spec-ops", 10000, "operations in the generated spec whose loading is timed (10,000 is about 10 MB); 0 skips it")
	fs.IntVar(&o.runs, "runs", 3, "runs per size; the fastest merlon and the fastest floor are reported, which filters out other load on the machine")
	fs.StringVar(&o.loadSpec, "load-spec", "", "internal: load this spec file and report, as a child process")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, s := range strings.Split(sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("-n: %q is not a positive number", s)
		}
		o.sizes = append(o.sizes, n)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.loadSpec != "" {
		return loadSpecChild(o.loadSpec, stdout)
	}
	tmp, err := os.MkdirTemp("", "merlon-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if o.merlon == "" {
		o.merlon = filepath.Join(tmp, "merlon")
		build := exec.CommandContext(ctx, "go", "build", "-o", o.merlon, "./cmd/merlon")
		build.Stderr = stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build merlon (run bench from the repository root): %w", err)
		}
	}

	// A first, unmeasured scan pages the binary in, so the smallest size
	// does not pay for a cold start.
	if _, err := measure(ctx, o, 10, tmp); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	fmt.Fprintf(stdout, "Scans: passive standard profile, --rate 0, concurrency %d, API latency %s.\n\n", o.concurrency, o.latency)
	fmt.Fprintln(stdout, "| N ops | wall | requests | req/op | CPU | peak RSS | floor wall | overhead |")
	fmt.Fprintln(stdout, "|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range o.sizes {
		var r result
		for i := range max(o.runs, 1) {
			ri, err := measure(ctx, o, n, tmp)
			if err != nil {
				return fmt.Errorf("N=%d: %w", n, err)
			}
			r = best(r, ri, i == 0)
		}
		fmt.Fprintf(stdout, "| %d | %s | %d | %.1f | %s | %d MiB | %s | %.2fx |\n",
			n, r.wall.Round(time.Millisecond), r.requests, float64(r.requests)/float64(n),
			r.cpu.Round(time.Millisecond), r.rss>>20, r.floor.Round(time.Millisecond), r.overhead())
	}
	if o.specOps > 0 {
		sr, err := measureSpec(ctx, o.specOps, tmp)
		if err != nil {
			return fmt.Errorf("spec load: %w", err)
		}
		fmt.Fprintf(stdout, "\nLoading a %.1f MB spec (%d operations): %s wall, %s CPU, peak RSS %d MiB.\n",
			float64(sr.bytes)/1e6, sr.ops, sr.wall.Round(time.Millisecond), sr.cpu.Round(time.Millisecond), sr.rss>>20)
	}
	return nil
}

// best keeps the fastest merlon run (with its own CPU, RSS and request
// count) and, separately, the fastest floor.
func best(acc, r result, first bool) result {
	if first {
		return r
	}
	floor := min(acc.floor, r.floor)
	if r.wall < acc.wall {
		acc = r
	}
	acc.floor = floor
	return acc
}

// errNoRequests means the scan sent nothing the server saw, so there is no
// floor to compare with.
var errNoRequests = errors.New("the scan sent no requests")
