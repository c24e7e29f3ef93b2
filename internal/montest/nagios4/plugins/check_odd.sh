#!/bin/sh
# Output with characters status.dat and statusjson.cgi have to escape:
# backslashes (also a literal backslash-n), quotes, HTML, a tab, UTF-8.
# Not used by the standard configuration; tests add it with an extra object file.
printf '%s\n' 'WARNING - C:\temp\new is "odd" <b>bold</b> & done | odd=1;;;0' \
  'second line: a\nb stays literal, tab:	end' \
  'third line: ü €'
exit 1
