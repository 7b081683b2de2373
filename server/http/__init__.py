"""What pages and the client API share about a request: the signed session cookie
(``session``), rendering a page for the signed-in member with its CSRF token (``pages``), and the
numbers allowed in paths and forms (``params``).

Both ``server.web`` and ``server.api`` import these; neither imports the other.
"""
