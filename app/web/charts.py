"""Geometry of the board's and the reports' SVG charts, computed here so the template only draws.

Server-drawn SVG needs no chart library in the browser and refreshes with the
rest of the board.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from app.clock import local

WIDTH, HEIGHT = 560, 150
#: Room for the axis labels.
LEFT, BOTTOM, TOP = 28, 22, 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: float | None


def _scale_top(largest: int) -> int:
    """A round top for the y axis, at least 1."""
    for top in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if largest <= top:
            return top
    return largest


def queue_chart(series: list[tuple[datetime, int]]) -> dict:
    """A step line of the queue length through the day, with hour ticks."""
    plot_width, plot_height = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    if not series:
        return {"width": WIDTH, "height": HEIGHT, "points": "", "ticks": [], "top": 1, "empty": True}
    start, end = series[0][0], series[-1][0]
    span = max((end - start).total_seconds(), 60.0)
    top = _scale_top(max(count for _, count in series))

    def x(moment: datetime) -> float:
        return round(LEFT + (moment - start).total_seconds() / span * plot_width, 1)

    def y(count: int) -> float:
        return round(TOP + plot_height - count / top * plot_height, 1)

    points, previous = [], None
    for moment, count in series:
        if previous is not None:
            points.append(f"{x(moment)},{y(previous)}")
        points.append(f"{x(moment)},{y(count)}")
        previous = count
    ticks, seen = [], set()
    for moment, _ in series:
        hour = local(moment).strftime("%H:00")
        if hour not in seen and local(moment).minute == 0:
            seen.add(hour)
            ticks.append((x(moment), hour))
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "points": " ".join(points),
        "ticks": ticks,
        "top": top,
        "top_y": TOP,
        "base_y": TOP + plot_height,
        "left": LEFT,
        "empty": False,
    }


def distribution_chart(bands: list[tuple[str, int]]) -> dict:
    """One bar per time-to-callback band."""
    plot_width, plot_height = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    top = _scale_top(max((count for _, count in bands), default=0))
    slot = plot_width / max(len(bands), 1)
    bars = []
    for index, (label, count) in enumerate(bands):
        height = count / top * plot_height
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.15, 1),
                y=round(TOP + plot_height - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label=label,
                count=count,
            )
        )
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "top": top, "base_y": TOP + plot_height, "left": LEFT}


def period_chart(series: list[tuple[str, float | None]], labels: int = 8) -> dict:
    """One bar per day or week of a report, with about ``labels`` period names under them."""
    plot_width, plot_height = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    top = _scale_top(math.ceil(max((value or 0 for _, value in series), default=0)))
    slot = plot_width / max(len(series), 1)
    every = max(1, math.ceil(len(series) / labels))
    bars = []
    for index, (label, value) in enumerate(series):
        height = (value or 0) / top * plot_height
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.1, 2),
                y=round(TOP + plot_height - height, 2),
                width=round(max(slot * 0.8, 0.5), 2),
                height=round(height, 2),
                label=label if index % every == 0 else "",
                count=value,
            )
        )
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "top": top, "base_y": TOP + plot_height, "left": LEFT}


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    count: int
    #: 0 (no calls) to 1 (the busiest hour of the week), for the cell's shade.
    shade: float


HEAT_CELL, HEAT_LEFT, HEAT_TOP = 22, 36, 16


def heat_map_chart(rows: list[list]) -> dict:
    """A weekday x hour grid of cells shaded by how many calls came in then."""
    busiest = max((count for row in rows for count in row[1:]), default=0) or 1
    cells = [
        Cell(HEAT_LEFT + hour * HEAT_CELL, HEAT_TOP + day * HEAT_CELL, count, round(count / busiest, 3))
        for day, row in enumerate(rows)
        for hour, count in enumerate(row[1:])
    ]
    return {
        "width": HEAT_LEFT + 24 * HEAT_CELL,
        "height": HEAT_TOP + len(rows) * HEAT_CELL,
        "cell": HEAT_CELL,
        "cells": cells,
        "days": [(HEAT_TOP + day * HEAT_CELL + HEAT_CELL * 0.7, row[0]) for day, row in enumerate(rows)],
        "hours": [(HEAT_LEFT + hour * HEAT_CELL + HEAT_CELL / 2, f"{hour:02d}") for hour in range(0, 24, 3)],
    }
