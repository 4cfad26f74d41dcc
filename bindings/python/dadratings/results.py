"""Result types: the data of docs/data-model.md as frozen dataclasses (snake_case).

Each result is built from the C object's accessors while the binding owns that object, and
the C object is freed right after (exactly once). The C library's own JSON rendering is kept
beside the fields, so :meth:`Stats.to_json_dict` and :meth:`Dashboard.to_json_dict` return
exactly the camelCase shape the Node binding and the JavaScript services use.

Star counts are ``dict``\\ s keyed by the ints 1..5.
"""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _lib

Counts = Dict[int, int]
STARS = (1, 2, 3, 4, 5)


def _text(raw: Optional[bytes]) -> Optional[str]:
    return None if raw is None else raw.decode("utf-8")


def _json_of(render: Callable[..., int], handle: int, check: Callable[[int], None]) -> str:
    """Call a dr_X_to_json renderer and return its text, releasing it with dr_free()."""
    out = ctypes.c_void_p()
    check(render(handle, ctypes.byref(out)))
    try:
        return ctypes.string_at(out.value).decode("utf-8")
    finally:
        _lib.lib.dr_free(out)


@dataclass(frozen=True)
class Stats:
    """Statistics of one joke (``read_stats`` / ``write_rating``).

    Attributes:
        joke_id: the joke's id.
        total_ratings: number of ratings.
        counts: ratings per star, ``{1: n1, ..., 5: n5}``.
        average: total_score / total_ratings rounded to 2 decimals (0 when unrated).
        last_rated_at: ISO-8601 UTC time of the newest rating, None when unrated.
        total_score: sum of all ratings.
        pending: True when the result folds in a rating the stream aggregator has not
            applied yet (stream mode only).
    """

    joke_id: str
    total_ratings: int
    counts: Counts
    average: float
    last_rated_at: Optional[str]
    total_score: int
    pending: bool
    _json: str = field(repr=False, compare=False)

    def to_json_dict(self) -> Dict[str, Any]:
        """The section-3 JSON shape, camelCase, as rendered by the C library:
        ``{"counts": {"1": .., "5": ..}, "totalRatings", "average", "jokeId",
        "lastRatedAt"}``. A new dict on each call."""
        return json.loads(self._json)

    def to_json(self) -> str:
        """The C library's JSON text of this result."""
        return self._json

    @classmethod
    def _from_handle(cls, h: int, check: Callable[[int], None]) -> "Stats":
        lib = _lib.lib
        return cls(
            joke_id=_text(lib.dr_stats_joke_id(h)) or "",
            total_ratings=lib.dr_stats_total_ratings(h),
            counts={s: lib.dr_stats_count(h, s) for s in STARS},
            average=lib.dr_stats_average(h),
            last_rated_at=_text(lib.dr_stats_last_rated_at(h)),
            total_score=lib.dr_stats_total_score(h),
            pending=bool(lib.dr_stats_pending(h)),
            _json=_json_of(lib.dr_stats_to_json, h, check),
        )


@dataclass(frozen=True)
class AuthorTotals:
    """One entry of ``totals.byAuthor``: an author's ratings and average."""

    author: str
    total_ratings: int
    average: float


@dataclass(frozen=True)
class DashboardTotals:
    """``totals`` of the dashboard."""

    overall_ratings: int
    overall_average: float
    unique_jokes: int
    rating_counts: Counts
    by_author: List[AuthorTotals]


@dataclass(frozen=True)
class RatingDistribution:
    """``ratingDistribution``: star counts overall and per author."""

    overall: Counts
    by_author: Dict[str, Counts]


@dataclass(frozen=True)
class TopPerformer:
    """One of the (at most 8) best-rated jokes with at least 3 ratings."""

    joke_id: str
    joke: Optional[str]
    author: Optional[str]
    total_ratings: int
    average: float
    last_rated_at: Optional[str]


@dataclass(frozen=True)
class RecentRating:
    """One of the newest 20 ratings."""

    joke_id: str
    rating: int
    joke: Optional[str]
    author: Optional[str]
    mode: Optional[str]
    date: Optional[str]
    submitted_at: Optional[str]


@dataclass(frozen=True)
class Dashboard:
    """The dashboard (``dashboard_stats``), with the nesting of docs/data-model.md."""

    totals: DashboardTotals
    rating_distribution: RatingDistribution
    top_performers: List[TopPerformer]
    recent_ratings: List[RecentRating]
    _json: str = field(repr=False, compare=False)

    def to_json_dict(self) -> Dict[str, Any]:
        """The section-3 JSON shape, camelCase, as rendered by the C library
        (``totals``, ``ratingDistribution``, ``topPerformers``, ``recentRatings``).
        A new dict on each call."""
        return json.loads(self._json)

    def to_json(self) -> str:
        """The C library's JSON text of this result."""
        return self._json

    @classmethod
    def _from_handle(cls, h: int, check: Callable[[int], None]) -> "Dashboard":
        lib = _lib.lib
        authors: List[AuthorTotals] = []
        by_author: Dict[str, Counts] = {}
        for i in range(lib.dr_dashboard_author_count(h)):
            name = _text(lib.dr_dashboard_author_name(h, i)) or ""
            authors.append(
                AuthorTotals(
                    author=name,
                    total_ratings=lib.dr_dashboard_author_total_ratings(h, i),
                    average=lib.dr_dashboard_author_average(h, i),
                )
            )
            by_author[name] = {
                s: lib.dr_dashboard_author_rating_count(h, i, s) for s in STARS
            }
        overall = {s: lib.dr_dashboard_rating_count(h, s) for s in STARS}
        top = [
            TopPerformer(
                joke_id=_text(lib.dr_dashboard_top_joke_id(h, i)) or "",
                joke=_text(lib.dr_dashboard_top_joke_text(h, i)),
                author=_text(lib.dr_dashboard_top_author(h, i)),
                total_ratings=lib.dr_dashboard_top_total_ratings(h, i),
                average=lib.dr_dashboard_top_average(h, i),
                last_rated_at=_text(lib.dr_dashboard_top_last_rated_at(h, i)),
            )
            for i in range(lib.dr_dashboard_top_count(h))
        ]
        recent = [
            RecentRating(
                joke_id=_text(lib.dr_dashboard_recent_joke_id(h, i)) or "",
                rating=lib.dr_dashboard_recent_rating(h, i),
                joke=_text(lib.dr_dashboard_recent_joke_text(h, i)),
                author=_text(lib.dr_dashboard_recent_author(h, i)),
                mode=_text(lib.dr_dashboard_recent_mode(h, i)),
                date=_text(lib.dr_dashboard_recent_date(h, i)),
                submitted_at=_text(lib.dr_dashboard_recent_submitted_at(h, i)),
            )
            for i in range(lib.dr_dashboard_recent_count(h))
        ]
        return cls(
            totals=DashboardTotals(
                overall_ratings=lib.dr_dashboard_overall_ratings(h),
                overall_average=lib.dr_dashboard_overall_average(h),
                unique_jokes=lib.dr_dashboard_unique_jokes(h),
                rating_counts=dict(overall),
                by_author=authors,
            ),
            rating_distribution=RatingDistribution(overall=overall, by_author=by_author),
            top_performers=top,
            recent_ratings=recent,
            _json=_json_of(lib.dr_dashboard_to_json, h, check),
        )


@dataclass(frozen=True)
class StreamBatchResult:
    """What :meth:`Client.apply_stream_batch` did with a batch of stream records.

    ``failed_sequence_numbers`` are the records not applied (the first that failed and
    every one after it, in order); hand them back for redelivery, for example with
    :meth:`lambda_response` as a Lambda function's return value.
    """

    applied: int
    skipped: int
    duplicates: int
    failed_sequence_numbers: Tuple[str, ...]

    def lambda_response(self) -> Dict[str, List[Dict[str, str]]]:
        """The Lambda partial batch response:
        ``{"batchItemFailures": [{"itemIdentifier": "<SequenceNumber>"}, ...]}``."""
        return {
            "batchItemFailures": [
                {"itemIdentifier": seq} for seq in self.failed_sequence_numbers
            ]
        }

    @classmethod
    def _from_handle(cls, h: int) -> "StreamBatchResult":
        lib = _lib.lib
        failed = tuple(
            _text(lib.dr_batch_result_failed_sequence_number(h, i)) or ""
            for i in range(lib.dr_batch_result_failed_count(h))
        )
        return cls(
            applied=int(lib.dr_batch_result_applied(h)),
            skipped=int(lib.dr_batch_result_skipped(h)),
            duplicates=int(lib.dr_batch_result_duplicates(h)),
            failed_sequence_numbers=failed,
        )
