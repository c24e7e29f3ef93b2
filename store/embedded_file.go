package store

import (
	"bufio"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
	"unicode/utf8"
)

// The embedded store's data file: gzip-compressed JSON lines, a header
// line, then one line per key. Expiry is stored as an absolute time, so a
// key set to expire in an hour is gone when the store is opened two hours
// later.
//
// A file is only loaded whole: the header's key count must match the
// lines that follow, and the gzip stream must end with its checksum and
// length intact. A damaged file is refused, never loaded short (a save
// would then write the loss back). Files written before the count was
// kept are read to their end.
const fileFormat = "dotm-embedded-store"
const fileVersion = 1

type fileHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Saved   int64  `json:"saved"`
	// Keys is the number of key lines that follow; nil in files written
	// before it was kept.
	Keys *int `json:"keys"`
}

type fileKey struct {
	Key      string             `json:"k"`
	Type     string             `json:"t"`
	String   string             `json:"s,omitempty"`
	Hash     map[string]string  `json:"h,omitempty"`
	List     []string           `json:"l,omitempty"`
	Set      []string           `json:"m,omitempty"`
	ZSet     map[string]float64 `json:"z,omitempty"`
	ExpireMs int64              `json:"x,omitempty"` // unix milliseconds
	// Raw marks a key with bytes that are not UTF-8 (a compressed history
	// snapshot, say): its name and values are base64 then, as JSON
	// strings would replace such bytes.
	Raw bool `json:"r,omitempty"`
}

// strs calls fn on every string of k (name, values, fields, members) and
// stores what it returns; it stops at the first error.
func (k *fileKey) strs(fn func(string) (string, error)) error {
	var err error
	conv := func(s string) string {
		if err != nil {
			return s
		}
		var out string
		out, err = fn(s)
		return out
	}
	k.Key, k.String = conv(k.Key), conv(k.String)
	if k.Hash != nil {
		h := make(map[string]string, len(k.Hash))
		for f, v := range k.Hash {
			h[conv(f)] = conv(v)
		}
		k.Hash = h
	}
	for i := range k.List {
		k.List[i] = conv(k.List[i])
	}
	for i := range k.Set {
		k.Set[i] = conv(k.Set[i])
	}
	if k.ZSet != nil {
		z := make(map[string]float64, len(k.ZSet))
		for m, score := range k.ZSet {
			z[conv(m)] = score
		}
		k.ZSet = z
	}
	return err
}

// markRaw base64-encodes k's strings when one of them is not UTF-8.
func (k *fileKey) markRaw() {
	valid := true
	k.strs(func(s string) (string, error) {
		valid = valid && utf8.ValidString(s)
		return s, nil
	})
	if !valid {
		k.Raw = true
		k.strs(func(s string) (string, error) { return base64.StdEncoding.EncodeToString([]byte(s)), nil })
	}
}

// unmarkRaw decodes a Raw key's strings.
func (k *fileKey) unmarkRaw() error {
	if !k.Raw {
		return nil
	}
	return k.strs(func(s string) (string, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		return string(b), err
	})
}

// load reads the data file into miniredis and returns how many keys had
// expired while the store was closed. A missing file is an empty store.
func (e *embedded) load() (expired int, err error) {
	path := filepath.Join(e.dir, dataFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open embedded store %s: %w", path, err)
	}
	defer f.Close()
	expired, err = e.read(f)
	if err != nil {
		return 0, fmt.Errorf("read embedded store %s: %w; the file is damaged: move it aside "+
			"(dotm starts empty) or restore it from a backup", path, err)
	}
	return expired, nil
}

func (e *embedded) read(r io.Reader) (expired int, err error) {
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return 0, err
	}
	dec := json.NewDecoder(zr)
	var h fileHeader
	if err := dec.Decode(&h); err != nil {
		return 0, fmt.Errorf("header: %w", err)
	}
	if h.Format != fileFormat || h.Version != fileVersion {
		return 0, fmt.Errorf("not a %s file of version %d (format %q, version %d)",
			fileFormat, fileVersion, h.Format, h.Version)
	}
	if h.Keys != nil && *h.Keys < 0 {
		return 0, fmt.Errorf("header counts %d keys", *h.Keys)
	}
	of := "" // " of N" when the header counts the keys
	if h.Keys != nil {
		of = fmt.Sprintf(" of %d", *h.Keys)
	}
	now := time.Now()
	for n := 0; h.Keys == nil || n < *h.Keys; n++ {
		var k fileKey
		if err := dec.Decode(&k); err != nil {
			if h.Keys == nil && errors.Is(err, io.EOF) {
				return expired, nil // an old file, read to its end and its checksum
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, fmt.Errorf("key %d%s: %w", n+1, of, err)
		}
		if err := k.unmarkRaw(); err != nil {
			return 0, fmt.Errorf("key %d%s: %w", n+1, of, err)
		}
		var ttl time.Duration
		if k.ExpireMs != 0 {
			ttl = time.UnixMilli(k.ExpireMs).Sub(now)
			if ttl <= 0 {
				expired++
				continue
			}
		}
		if err := e.restore(k); err != nil {
			return 0, fmt.Errorf("key %q: %w", k.Key, err)
		}
		if ttl > 0 {
			e.mr.SetTTL(k.Key, ttl)
			e.expiring.Store(true)
		}
	}
	// Reading to the end checks the gzip checksum and length, and that no
	// key follows the counted ones.
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return expired, nil
	case err != nil:
		return 0, fmt.Errorf("after the %d keys the header counts: %w", *h.Keys, err)
	default:
		return 0, fmt.Errorf("more data than the %d keys the header counts", *h.Keys)
	}
}

func (e *embedded) restore(k fileKey) error {
	m := e.mr
	var err error
	switch k.Type {
	case "string":
		err = m.Set(k.Key, k.String)
	case "hash":
		fv := make([]string, 0, 2*len(k.Hash))
		for f, v := range k.Hash {
			fv = append(fv, f, v)
		}
		m.HSet(k.Key, fv...)
	case "list":
		_, err = m.Push(k.Key, k.List...)
	case "set":
		_, err = m.SetAdd(k.Key, k.Set...)
	case "zset":
		for mem, score := range k.ZSet {
			if _, err = m.ZAdd(k.Key, score, mem); err != nil {
				break
			}
		}
	default:
		err = fmt.Errorf("unsupported type %q", k.Type)
	}
	return err
}

// save writes the data file if anything changed since the last save: to a
// temporary file in the same directory, synced, then renamed over the old
// one, and the directory synced, so the file is always complete.
func (e *embedded) save() error {
	if !e.dirty.Load() {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dirty.Store(false)
	path := filepath.Join(e.dir, dataFile)
	tmp, err := os.CreateTemp(e.dir, dataFile+".tmp-*")
	if err != nil {
		e.dirty.Store(true)
		return fmt.Errorf("save embedded store in %s: %w", e.dir, err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	err = e.write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(e.dir)
	}
	if err != nil {
		e.dirty.Store(true)
		return fmt.Errorf("save embedded store %s: %w; the previous contents are kept", path, err)
	}
	return nil
}

func (e *embedded) write(w io.Writer) error {
	e.gate.Lock() // no command runs while the keys are copied
	keys, err := e.dump()
	e.gate.Unlock()
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	enc := json.NewEncoder(zw)
	count := len(keys)
	hdr := fileHeader{Format: fileFormat, Version: fileVersion, Saved: time.Now().Unix(), Keys: &count}
	if err := enc.Encode(hdr); err != nil {
		return err
	}
	for i := range keys {
		keys[i].markRaw()
		if err := enc.Encode(&keys[i]); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// dump copies every key out of miniredis, sorted by name so equal stores
// give equal files.
func (e *embedded) dump() ([]fileKey, error) {
	m := e.mr
	names := m.Keys()
	sort.Strings(names)
	now := time.Now()
	out := make([]fileKey, 0, len(names))
	for _, name := range names {
		k := fileKey{Key: name, Type: m.Type(name)}
		var err error
		switch k.Type {
		case "string":
			k.String, err = m.Get(name)
		case "hash":
			var fields []string
			fields, err = m.HKeys(name)
			k.Hash = make(map[string]string, len(fields))
			for _, f := range fields {
				k.Hash[f] = m.HGet(name, f)
			}
		case "list":
			k.List, err = m.List(name)
		case "set":
			k.Set, err = m.Members(name)
		case "zset":
			k.ZSet, err = m.SortedSet(name)
		case "":
			continue // expired between Keys and Type
		default:
			err = fmt.Errorf("type %q is not kept by the embedded store", k.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", name, err)
		}
		if ttl := m.TTL(name); ttl > 0 {
			k.ExpireMs = now.Add(ttl).UnixMilli()
		}
		out = append(out, k)
	}
	return out, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
