// This file has only comments.
/* No module at all. */
