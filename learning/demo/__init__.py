"""The demo municipality "Gemeinde Musterhausen"; later features add their own demo data here."""
