"""One district's indicator cards as an HTML fragment for the region page
(templates/shared/indicator_cards.html.j2; the cards from pipeline/steps/indicators.py)."""

from __future__ import annotations

from pipeline.render.reports import environment

TEMPLATE = "shared/indicator_cards.html.j2"


def cards_html(code: str, district: str, year: int, cards: list, note: str = "") -> str:
    """The fragment: every card with its figure, level in words, counts and the reason;
    `note` says why a district has no cards at all (no accepted figures this year)."""
    return (
        environment()
        .get_template(TEMPLATE)
        .render(code=code, district=district, year=year, cards=cards, note=note)
    )
