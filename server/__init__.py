"""The VeriFrag language server (pygls): diagnostics, inline completion, module generation."""
