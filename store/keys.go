package store

import "strings"

// The Redis key names of dotm's data contract. They are part of the
// product's interface (other tools read them), so they never change
// spelling. This file is the only place that spells them.
const (
	prefix = "dotm::"

	keyNodes     = prefix + "nodes"                  // list of node names
	keyNodePfx   = prefix + "nodes::"                // hash per node
	keyConnPfx   = prefix + "connections::"          // hash per node/port/remote
	keySvcPfx    = prefix + "services::"             // hash per node/port
	keyResolver  = prefix + "resolver::ip_to_node::" // string per IP
	keyNodeCheck = prefix + "checks::nodes::"        // JSON string per node
	keySvcChecks = prefix + "checks::services::"     // list of JSON per node
	keyConfig    = prefix + "config::"               // one key per setting
	keyState     = prefix + "state"                  // hash
	keyQueue     = prefix + "queue"                  // list of JSON tasks
	keyResult    = prefix + "queue::result::"        // JSON per task id
	keyLease     = prefix + "queue::lease::"         // worker per task in progress, with expiry
	keyHistory   = prefix + "history"                // list of snapshot timestamps
	keySnapshot  = prefix + "history::"              // one compressed document per snapshot
)

// sep separates the parts of a key. Node names never contain it (see
// ValidateNodeName), so the node part of a key is always unambiguous, while
// a remote part may be an IPv6 address that does.
const sep = "::"

func nodeKey(node string) string          { return keyNodePfx + node }
func serviceKey(node, port string) string { return keySvcPfx + node + sep + port }
func nodeChecksKey(node string) string    { return keyNodeCheck + node }
func serviceChecksKey(node string) string { return keySvcChecks + node }
func resolverKey(ip string) string        { return keyResolver + ip }
func configKey(setting string) string     { return keyConfig + setting }
func resultKey(id string) string          { return keyResult + TaskUUID(id) }
func leaseKey(id string) string           { return keyLease + TaskUUID(id) }
func snapshotKey(ts int64) string         { return keySnapshot + itoa(ts) }
func summaryKey(ts int64) string          { return keySnapshot + itoa(ts) + sep + "summary" }
func connectionKey(node string, id ConnectionID) string {
	k := keyConnPfx + node + sep + id.Port + sep + id.Remote
	if id.Split {
		k += splitSuffix
	}
	return k + containerSuffix(id.Container)
}

// splitSuffix ends the key of an outgoing connection that shares port and
// remote with an incoming one. No remote ends in it: node names never
// contain "::", and "out" is no IPv6 group.
const splitSuffix = sep + "out"

// splitKey cuts rest (a key with its family prefix removed) into the node
// and what follows it. ok is false when the key has no node part.
func splitKey(rest string) (node, tail string, ok bool) {
	node, tail, ok = strings.Cut(rest, sep)
	return node, tail, ok && node != ""
}

// globEscape escapes the characters that are special in a SCAN MATCH
// pattern, so a name is matched literally.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
