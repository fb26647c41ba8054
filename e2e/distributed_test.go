package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/merlonsec/merlon/internal/jobs"
	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/pgtest"
)

// slowAPI is a tiny API whose every answer takes latency, so that a scan
// lasts long enough for a worker to be killed in the middle of one.
func slowAPI(latency time.Duration, requests *atomic.Int64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"openapi":"3.0.3","info":{"title":"slow","version":"1"},"paths":{
		  "/items":{"get":{"responses":{"200":{"description":"ok"}}}},
		  "/items/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"},"example":1}],"responses":{"200":{"description":"ok"}}}}}}`)
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id":1}]`)
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q}`, r.PathValue("id"))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// worker is a `merlon worker` process.
type worker struct {
	id  string
	cmd *exec.Cmd
	out *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startWorker(t *testing.T, dsn, id string) *worker {
	t.Helper()
	w := &worker{id: id, out: &syncBuffer{}}
	// The job timeout leaves each ~1-2 s scan ample room; the short rescue
	// delay lets the test see a dead worker's scan retried quickly.
	w.cmd = exec.Command(merlonBin, "worker", "--db", dsn, "--workers", "2", "--id", id,
		"--job-timeout", "15s", "--rescue-after", "20s")
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("start worker %s: %v", id, err)
	}
	t.Cleanup(func() {
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
		if t.Failed() {
			t.Logf("worker %s output:\n%s", id, w.out.String())
		}
	})
	return w
}

// runningOn counts the scan jobs a worker is running now, from River's
// own table: attempted_by ends with the worker that holds the job.
func runningOn(ctx context.Context, conn *pgx.Conn, id string) (int, error) {
	var n int
	err := conn.QueryRow(ctx, `SELECT count(*) FROM river_job
		WHERE kind = $1 AND state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $2`,
		jobs.ScanArgs{}.Kind(), id).Scan(&n)
	return n, err
}

// server is a `merlon serve --workers 0` process: it queues scans and
// runs none.
type server struct {
	base   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{} // closed once the process has exited
	err    error         // its exit status, once exited
}

func startServer(t *testing.T, dsn string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &server{base: "http://" + addr, out: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(merlonBin, "serve", "--addr", addr, "--db", dsn, "--workers", "0", "--allow-private-targets")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start merlon serve: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("serve output:\n%s", s.out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/api/openapi.json")
		if err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("merlon serve exited: %v\n%s", s.err, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("merlon serve did not answer within 30 s: %v\n%s", err, s.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// post sends body as JSON with the API token and decodes the answer's id.
func (s *server) post(t *testing.T, token, path string, body any, want int) int64 {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out struct {
		ID int64 `json:"id"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want || json.Unmarshal(raw, &out) != nil || out.ID == 0 {
		t.Fatalf("POST %s = %d %s, want %d with an id", path, resp.StatusCode, raw, want)
	}
	return out.ID
}

// apiToken makes an account and an API token for it, written to the
// store as the tokens page would (only the hash is kept).
func apiToken(t *testing.T, ctx context.Context, st store.Store) string {
	t.Helper()
	hash, err := store.HashPassword("distributed-e2e-password")
	if err != nil {
		t.Fatal(err)
	}
	u := &store.User{Email: "e2e@merlon.test", PasswordHash: hash}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	tok, err := store.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAPIToken(ctx, &store.APIToken{UserID: u.ID, Name: "e2e", Hash: store.HashToken(tok)}); err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestDistributedWorkersSurviveKill is issue 6's test: a `merlon serve`
// and two `merlon worker` processes on one PostgreSQL, 20 scans queued
// through the server's REST API against a slow target, one worker
// SIGKILLed mid-scan. Every scan must complete exactly once: 20 scans
// done, 20 reports, none stored twice. Then the server, sent SIGTERM,
// must exit 0.
func TestDistributedWorkersSurviveKill(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var requests atomic.Int64
	api := httptest.NewServer(slowAPI(40*time.Millisecond, &requests))
	defer api.Close()

	// The test reads the outcome straight from the database; this
	// insert-only runner also migrates it before the processes start.
	db, err := jobs.Open(ctx, dsn, jobs.Config{})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	defer db.Close()
	st := db.Store()
	token := apiToken(t, ctx, st)

	srv := startServer(t, dsn)
	targetID := srv.post(t, token, "/api/targets", map[string]string{
		"name": "slow", "url": api.URL, "spec": api.URL + "/openapi.json",
	}, http.StatusCreated)
	tg := &store.Target{ID: targetID}
	const n = 20
	ids := make([]int64, 0, n)
	for range n {
		ids = append(ids, srv.post(t, token, "/api/scans", map[string]any{"targetId": targetID}, http.StatusAccepted))
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	victim := startWorker(t, dsn, "worker-a")
	startWorker(t, dsn, "worker-b")

	// Kill worker-a once it holds a running scan and some scans are done,
	// so that the kill lands mid-scan and not during startup.
	killed := 0
	for killed == 0 {
		if ctx.Err() != nil {
			t.Fatalf("worker-a never ran a scan:\n%s", victim.out.String())
		}
		done, err := st.ListScans(ctx, tg.ID, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		finished := 0
		for _, s := range done {
			if s.Status == store.StatusDone {
				finished++
			}
		}
		running, err := runningOn(ctx, conn, victim.id)
		if err != nil {
			t.Fatal(err)
		}
		if finished >= 2 && running > 0 {
			if err := victim.cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			_ = victim.cmd.Wait()
			// Count again now that worker-a is dead: a job it had just
			// finished may have been marked completed in between.
			if killed, err = runningOn(ctx, conn, victim.id); err != nil {
				t.Fatal(err)
			}
			if killed == 0 {
				t.Fatalf("worker-a finished its scans just before the kill; none was interrupted")
			}
			t.Logf("killed worker-a holding %d running scans; %d scans done", killed, finished)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Wait for every scan to end, the killed ones once River's rescuer
	// hands them to worker-b.
	var scans []store.Scan
	for {
		scans, err = st.ListScans(ctx, tg.ID, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		final := 0
		for _, s := range scans {
			if s.Status.Final() {
				final++
			}
		}
		if final == n {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d scans final after 3 minutes", final, n)
		}
		time.Sleep(200 * time.Millisecond)
	}

	if len(scans) != n {
		t.Errorf("scans stored = %d, want %d", len(scans), n)
	}
	for _, s := range scans {
		if s.Status != store.StatusDone || !s.HasReport {
			t.Errorf("scan %d = %s (%q), report %v; want done with a report", s.ID, s.Status, s.Message, s.HasReport)
			continue
		}
		rep, err := st.GetReport(ctx, s.ID)
		if err != nil {
			t.Errorf("GetReport(%d) = %v", s.ID, err)
			continue
		}
		rows, err := st.ListFindings(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		// A report stored twice would double its finding rows.
		if len(rows) != len(rep.Findings) || s.Findings != len(rep.Findings) {
			t.Errorf("scan %d: %d finding rows, count %d, report has %d; want all equal", s.ID, len(rows), s.Findings, len(rep.Findings))
		}
	}

	// River marks a job completed shortly after its worker returns (its
	// completer batches), so the last scan can be done a moment before its
	// job is: wait for the jobs too, within the test's deadline.
	var jobsDone, retried, total int
	for {
		err = conn.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE state = 'completed'),
		count(*) FILTER (WHERE attempt > 1 AND 'worker-a' = ANY(attempted_by)),
		count(*)
		FROM river_job WHERE kind = $1`, jobs.ScanArgs{}.Kind()).Scan(&jobsDone, &retried, &total)
		if err != nil {
			t.Fatal(err)
		}
		if jobsDone >= n || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if total != n || jobsDone != n {
		t.Errorf("scan jobs = %d, completed %d; want %d, all completed", total, jobsDone, n)
	}
	if retried < killed {
		t.Errorf("jobs retried after worker-a died = %d, want at least the %d it held", retried, killed)
	}
	for _, id := range ids {
		found := false
		for _, s := range scans {
			found = found || s.ID == id
		}
		if !found {
			t.Errorf("scan %d missing", id)
		}
	}
	t.Logf("target answered %d requests", requests.Load())

	// A signal-driven stop is a clean exit.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.exited:
		if srv.err != nil {
			t.Errorf("merlon serve after SIGTERM: %v, want exit 0", srv.err)
		}
	case <-time.After(time.Minute):
		t.Errorf("merlon serve still running a minute after SIGTERM")
	}
}
