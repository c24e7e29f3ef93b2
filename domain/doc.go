// Package domain holds what dotm's data means, apart from where it is
// kept: a fleet's architecture as archived and how two of them differ, and
// how bad a monitoring state is. Package store keeps these under its keys;
// everything above reads them.
package domain
