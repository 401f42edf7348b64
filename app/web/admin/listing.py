"""Search and paging shared by the admin lists."""

from dataclasses import dataclass

from flask import request
from sqlalchemy import Select, func, select

from app.extensions import db

PAGE_SIZE = 50


@dataclass
class Listing:
    rows: list
    page: int
    pages: int
    total: int
    search: str


def listing(query: Select) -> Listing:
    """One page (``?page=``) of a query's rows, with its count."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return Listing(list(rows), page, pages, total, search_text())


def search_text() -> str:
    return request.args.get("q", "").strip()[:100]


def like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
