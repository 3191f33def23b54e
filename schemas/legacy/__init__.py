"""Format `legacy`: reports on years up to 2018 (国务院令第492号; docs/formats.md).

Before 2019 there was no national table. The coordinating office defines, per
home and year, the indicators units submit and the relations among them, in an
indicator catalogue, and writes the report itself as a narrative template.

Catalogue file: ``<home>/catalogue/<year>.toml`` (UTF-8)::

    name = "江汉区2017年度政府信息公开工作统计指标"   # optional: the format's display name
    narrative = "narrative/2017.txt.j2"      # optional; default narrative/<year>.txt.j2
    sections = ["一、主要工作情况", "..."]     # optional; the report's section headings in
                                             # order (default: the six contents of art. 32)
    appendix = true                          # optional; print the indicator tables as 附件

    [[tables]]                               # one table of indicators (a sheet in the workbook)
    code = "hotline"                         # [a-z][a-z0-9_]*, unique
    title = "区长专线受理情况"
    owner = "hotline"                        # default owner (unit code, or a list of codes)

    [[tables.indicators]]
    code = "calls"                           # [a-z][a-z0-9_]*, unique within the table
    label = "受理群众来电"
    unit = "人次"                            # unit of measure (shown with the label)
    type = "count"                           # count | decimal | share | rate (rate = a share)
    group = "按类别"                         # optional: block heading in the form
    owner = "..."                            # optional: overrides the table's owner
    part = "complaints"                      # share only: the counts it is computed from;
    whole = "calls"                          #   a submitted share is cross-checked (rule L2)
    shares_of = "来电类别"                    # share only: shares with the same key in one
                                             #   table are parts of one whole: sum 100 ± 1 (L3)

    [[texts]]                                # optional: text a unit submits, inserted as data
    code = "hr_story"
    label = "招才引智工作情况"
    owner = "hrss"

    [[relations]]                            # relations among indicators
    id = "JH1"                               # unique; L1-L4 are the built-in rules below
    rule = "applications.handled == applications.not_ours + applications.amend"
    description = "办理结果之和应等于办结数"   # optional, Chinese
    severity = "WARNING"                     # default WARNING; ERROR rejects the unit
    tolerance = 0                            # optional absolute tolerance

A relation's `rule` compares sums of terms with ``==``, ``<=`` or ``>=`` (chains
such as ``a <= b <= c`` allowed); a term is ``table.indicator`` (or a bare
indicator code that is unique in the catalogue), a number, or ``number *
indicator``. Relations among indicators of the same owners are checked for each
owner unit; others on the district's totals, reported to the first term's owner.
An indicator not submitted counts as 0 when its owner handed in something; a
relation whose owners handed in nothing is not checked.

Built-in rules (all WARNING, the office decides, docs/formats.md):
  L1 an indicator submitted by a unit that does not own it (ERROR: it would be
     counted twice); L2 a submitted share differs by 0.5 points or more from
     the share computed from its counts; L3 shares of one whole do not sum to
     100 ± 1; L4 an indicator the unit owns was not submitted.

Submissions use the ordinary cell model: table = table code, row = indicator
code, column = ``value``; texts are ``narrative,<code>,text,...``.
"""

from schemas.legacy import checks  # noqa: F401 - registers the legacy rule kinds
from schemas.legacy.catalogue import VALUE_COLUMN, Catalogue, Indicator, catalogue_path, read_catalogue
from schemas.legacy.format import BUILTIN_RULES, LegacyFormat, build_format, load_format

__all__ = [
    "BUILTIN_RULES",
    "VALUE_COLUMN",
    "Catalogue",
    "Indicator",
    "LegacyFormat",
    "build_format",
    "catalogue_path",
    "load_format",
    "read_catalogue",
]
