// Package render turns a store snapshot into what people read: the
// findings (unused services, vanished connections, coverage gaps, alert
// impact), page models, DOT graphs and their layout, and the report in its
// formats. It reads through package store and never writes to it.
package render
