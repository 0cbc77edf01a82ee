"""The report family: everything the report stage reads and writes (report.md, index.html, slides, defense notes, literature, claims, compare pages)."""
