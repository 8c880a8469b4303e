// gotest.go: the Go program of the real-program tests (tests/boot/test_real.c).
// tools/real-programs.sh builds it with Debian's Go (CGO_ENABLED=0) into the
// static binary build/real/gotest, which runs on Solo and natively on the host
// with the same arguments and files, and the two outputs must be equal.
//
// What it exercises is the Go runtime's use of the kernel: threads (Ms) and
// futexes behind goroutines and channels, the netpoller (epoll and a pipe)
// behind timers and sleeps, signals for preemption, mmap/munmap under the
// garbage collector, and the file-writing calls of package os. So it prints
// only what is deterministic: results and facts about the clocks, never
// durations, addresses, thread or GC counts.
//
// usage: gotest DIR STATUS   (works in DIR/gotest, reads data/poem.txt,
// exits with STATUS)
package main

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Println("usage: gotest DIR STATUS")
		os.Exit(2)
	}
	status, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Println("bad status:", err)
		os.Exit(2)
	}
	fmt.Printf("== arguments\nargs %q\n", os.Args[1:])

	goroutines()
	timers()
	garbage()
	files(os.Args[1])

	fmt.Println("== exit", status)
	os.Exit(status)
}

// ---------------------------------------------------------------- goroutines

func goroutines() {
	fmt.Println("== goroutines")

	// A worker pool: 8 workers square the numbers 1..2000 from one channel.
	jobs := make(chan int)
	results := make(chan int, 16)
	var workers sync.WaitGroup
	for w := 0; w < 8; w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for n := range jobs {
				results <- n * n
			}
		}()
	}
	go func() {
		for n := 1; n <= 2000; n++ {
			jobs <- n
		}
		close(jobs)
	}()
	go func() {
		workers.Wait()
		close(results)
	}()
	sum, count := 0, 0
	for r := range results {
		sum += r
		count++
	}
	fmt.Printf("pool: %d results, sum of squares %d\n", count, sum)

	// A pipeline of unbuffered stages: generate, square, keep the even
	// ones, sum.
	gen := func(n int) <-chan int {
		out := make(chan int)
		go func() {
			for i := 1; i <= n; i++ {
				out <- i
			}
			close(out)
		}()
		return out
	}
	stage := func(in <-chan int, f func(int) (int, bool)) <-chan int {
		out := make(chan int)
		go func() {
			for v := range in {
				if r, ok := f(v); ok {
					out <- r
				}
			}
			close(out)
		}()
		return out
	}
	squares := stage(gen(1000), func(v int) (int, bool) { return v * v, true })
	evens := stage(squares, func(v int) (int, bool) { return v, v%2 == 0 })
	total, kept := 0, 0
	for v := range evens {
		total += v
		kept++
	}
	fmt.Printf("pipeline: %d even squares, sum %d\n", kept, total)

	// A mutex-protected counter and map, from 16 goroutines at once.
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	seen := map[int]int{}
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				mu.Lock()
				counter++
				seen[i%10] += g
				mu.Unlock()
				if i%100 == 0 {
					runtime.Gosched()
				}
			}
		}(g)
	}
	wg.Wait()
	fmt.Printf("mutex: counter %d, seen[3] %d\n", counter, seen[3])

	// A select that must pick the ready channel, and sync.Once.
	ready := make(chan string, 1)
	ready <- "ready"
	select {
	case v := <-ready:
		fmt.Println("select:", v)
	case <-time.After(time.Hour):
		fmt.Println("select: timed out")
	}
	var once sync.Once
	calls := 0
	for i := 0; i < 5; i++ {
		once.Do(func() { calls++ })
	}
	fmt.Println("once: calls", calls)
}

// ---------------------------------------------------------------- timers

func timers() {
	fmt.Println("== timers")

	// Each start is read before its timer is made: read after, a delay in
	// between (a busy host) would make the elapsed time look short.
	start := time.Now()
	t := time.NewTimer(20 * time.Millisecond)
	<-t.C
	fmt.Println("timer fired after >= 20ms:", time.Since(start) >= 20*time.Millisecond)

	long := time.NewTimer(time.Hour)
	fmt.Println("stop of a pending timer:", long.Stop())
	fmt.Println("stop of a stopped timer:", long.Stop())
	start = time.Now()
	long.Reset(10 * time.Millisecond)
	<-long.C
	fmt.Println("reset timer fired after >= 10ms:", time.Since(start) >= 10*time.Millisecond)

	never := make(chan struct{})
	start = time.Now()
	select {
	case <-never:
		fmt.Println("time.After: the wrong case")
	case <-time.After(15 * time.Millisecond):
		fmt.Println("time.After fired after >= 15ms:", time.Since(start) >= 15*time.Millisecond)
	}

	// time.AfterFunc runs its function on another goroutine.
	done := make(chan string)
	time.AfterFunc(5*time.Millisecond, func() { done <- "ran" })
	fmt.Println("AfterFunc:", <-done)

	start = time.Now()
	ticker := time.NewTicker(5 * time.Millisecond)
	ticks := 0
	for range ticker.C {
		ticks++
		if ticks == 4 {
			break
		}
	}
	ticker.Stop()
	fmt.Println("ticker: ticks", ticks, "after >= 20ms:", time.Since(start) >= 20*time.Millisecond)

	// Many goroutines sleeping at once, each for its own time.
	var wg sync.WaitGroup
	order := make(chan int, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 15 * time.Millisecond)
			order <- i
		}(i)
	}
	wg.Wait()
	close(order)
	woke := []int{}
	for i := range order {
		woke = append(woke, i)
	}
	sort.Ints(woke)
	fmt.Println("10 sleepers woke:", woke)

	start = time.Now()
	time.Sleep(50 * time.Millisecond)
	elapsed := time.Since(start)
	fmt.Println("time.Sleep(50ms) slept >= 50ms:", elapsed >= 50*time.Millisecond)
	fmt.Println("wall clock after 2001:", time.Now().Year() > 2001)
	fmt.Println("a fixed date:", time.Date(2024, 2, 29, 13, 4, 5, 0, time.UTC).Format(time.RFC1123))
}

// ---------------------------------------------------------------- garbage

type node struct {
	next  *node
	value int
	data  []byte
}

func garbage() {
	fmt.Println("== garbage collector")

	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	checksum := 0
	// Short-lived lists, maps and byte slices: about 60 MB allocated in
	// total, almost all of it garbage at once.
	for round := 0; round < 40; round++ {
		var head *node
		for i := 0; i < 2000; i++ {
			head = &node{next: head, value: i, data: make([]byte, 64+i%64)}
		}
		m := make(map[string][]int)
		for i := 0; i < 2000; i++ {
			k := "k" + strconv.Itoa(i%500)
			m[k] = append(m[k], i)
		}
		big := make([]byte, 1<<20)
		big[len(big)-1] = byte(round)
		for n := head; n != nil; n = n.next {
			checksum += n.value + len(n.data)
		}
		checksum += len(m) + len(m["k7"]) + int(big[len(big)-1])
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	fmt.Println("checksum", checksum)
	fmt.Println("GC ran:", after.NumGC > before.NumGC)
	fmt.Println("heap back under 64 MiB:", after.HeapAlloc < 64<<20)
}

// ---------------------------------------------------------------- files

// show prints what an operation returned: "ok" or the error, whose text
// names the path and the errno, as the same call does on Linux.
func show(what string, err error) {
	if err != nil {
		fmt.Printf("%s: %v\n", what, err)
	} else {
		fmt.Printf("%s: ok\n", what)
	}
}

// listing prints the entries of dir, sorted by name (os.ReadDir sorts), with
// their kind and, for files, their size.
func listing(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Printf("ReadDir %s: %v\n", dir, err)
		return
	}
	names := []string{}
	for _, e := range entries {
		desc := e.Name()
		if e.IsDir() {
			desc += "/"
		} else if info, err := e.Info(); err == nil {
			desc += fmt.Sprintf("(%d)", info.Size())
		}
		names = append(names, desc)
	}
	fmt.Printf("ReadDir %s: [%s]\n", dir, strings.Join(names, " "))
}

func files(top string) {
	fmt.Println("== files")

	poem, err := os.ReadFile("data/poem.txt")
	show("ReadFile data/poem.txt", err)
	fmt.Printf("poem: %d bytes, %d lines, sha256 %x\n", len(poem),
		strings.Count(string(poem), "\n"), sha256.Sum256(poem))
	_, err = os.ReadFile("data/missing.txt")
	show("ReadFile data/missing.txt", err)
	fmt.Println("missing is ErrNotExist:", errors.Is(err, fs.ErrNotExist))

	// The modes printed below must not depend on the umask the host run
	// inherits.
	syscall.Umask(0o022)
	dir := filepath.Join(top, "gotest")
	show("MkdirAll "+dir, os.MkdirAll(dir, 0o755))
	show("Mkdir again", os.Mkdir(dir, 0o755))

	a := filepath.Join(dir, "a.txt")
	show("WriteFile a.txt", os.WriteFile(a, []byte("written by os.WriteFile\n"), 0o644))

	b := filepath.Join(dir, "b.txt")
	f, err := os.Create(b)
	show("Create b.txt", err)
	if err == nil {
		w := bufio.NewWriterSize(f, 4096)
		for i := 0; i < 2000; i++ {
			fmt.Fprintf(w, "line %04d of b.txt\n", i)
		}
		show("Flush", w.Flush())
		show("Sync", f.Sync())
		info, err := f.Stat()
		if err == nil {
			fmt.Println("b.txt size", info.Size(), "mode", info.Mode())
		}
		show("Close", f.Close())
	}

	data, err := os.ReadFile(a)
	show("ReadFile a.txt", err)
	fmt.Printf("a.txt: %q\n", data)
	data, err = os.ReadFile(b)
	show("ReadFile b.txt", err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	fmt.Printf("b.txt: %d bytes, %d lines, last %q, sha256 %x\n", len(data), len(lines),
		lines[len(lines)-1], sha256.Sum256(data))

	// Append, seek and read back a part.
	f, err = os.OpenFile(a, os.O_APPEND|os.O_WRONLY, 0)
	show("OpenFile a.txt O_APPEND", err)
	if err == nil {
		_, err = f.WriteString("appended\n")
		show("append", err)
		f.Close()
	}
	f, err = os.Open(a)
	if err == nil {
		buf := make([]byte, 8)
		_, err = f.Seek(-9, 2)
		show("Seek from the end", err)
		n, err := f.Read(buf)
		fmt.Printf("read %d %q %v\n", n, buf[:n], err)
		_, err = f.Write([]byte("x"))
		fmt.Println("write to a read-only file fails:", err != nil)
		f.Close()
	}

	c := filepath.Join(dir, "c.txt")
	show("Rename a.txt c.txt", os.Rename(a, c))
	_, err = os.Stat(a)
	fmt.Println("a.txt is gone:", errors.Is(err, fs.ErrNotExist))
	show("Remove b.txt", os.Remove(b))
	show("Remove b.txt again", os.Remove(b))
	show("Mkdir sub", os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	show("WriteFile sub/z", os.WriteFile(filepath.Join(dir, "sub", "z"), []byte("z"), 0o600))
	show("Symlink", os.Symlink("c.txt", filepath.Join(dir, "link")))
	target, err := os.Readlink(filepath.Join(dir, "link"))
	fmt.Printf("Readlink: %q %v\n", target, err)
	listing(dir)
	show("Remove sub (not empty)", os.Remove(filepath.Join(dir, "sub")))
	show("RemoveAll sub", os.RemoveAll(filepath.Join(dir, "sub")))
	show("Truncate c.txt", os.Truncate(c, 7))
	info, err := os.Stat(c)
	if err == nil {
		fmt.Println("c.txt size", info.Size(), "mode", info.Mode())
	}
	listing(dir)
	show("RemoveAll "+dir, os.RemoveAll(dir))
	_, err = os.Stat(dir)
	fmt.Println("dir is gone:", errors.Is(err, fs.ErrNotExist))
}
