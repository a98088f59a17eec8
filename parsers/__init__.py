"""Pure functions from page bytes to typed records. No I/O, nothing else of ours."""

from parsers.kausal import parse_page
from parsers.records import Outcome, PageKind, ParsedPage

__all__ = ["Outcome", "PageKind", "ParsedPage", "parse_page"]
