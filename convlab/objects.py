"""Names → tensor objects → storage, drawn from real ``id()`` and ``data_ptr()`` values (ch3).

A Python name is bound to an object (``id(t)`` is the object's identity); a tensor object points
into a block of memory, its storage (``t.untyped_storage().data_ptr()`` is the block's address).
:func:`bindings` records, at one moment, which object each name is bound to and which storage
each object uses; :func:`names_objects_storage` draws one or more such moments side by side
in three columns (names, objects, storages), so the ``c = c + 1`` puzzle can be seen: the name
``c`` moves to a new object with a new storage, while ``a`` and ``b`` keep sharing theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from convlab import draw, i18n, svg

_M = 8
_ROW = 58  # pixels per object row
_NAME_W, _OBJ_W = 44, 210
_MONO = " font-family='monospace'"


@dataclass(frozen=True)
class Binding:
    """One name at one moment: the object it is bound to and that object's storage."""

    name: str
    object_id: int  # id(tensor)
    storage_ptr: int  # tensor.untyped_storage().data_ptr()
    values: tuple[float, ...]
    requires_grad: bool
    tensor: torch.Tensor = field(repr=False, compare=False)  # keeps the id from being reused


def bindings(**tensors: torch.Tensor) -> tuple[Binding, ...]:
    """Record which object each name is bound to and which storage that object uses, now.

    Call it as ``bindings(a=a, b=b, c=c)``. Values are copied (a later in-place change does not
    alter the record); the tensor is kept so that its ``id`` cannot be reused by a new object.
    """
    if not tensors:
        raise ValueError("bindings() needs at least one name=tensor pair, e.g. bindings(a=a)")
    out = []
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.numel() > 8:
            raise ValueError(f"{name} has {t.numel()} elements; the figure shows at most 8 "
                             "values per storage (use a small tensor)")
        out.append(Binding(name, id(t), t.untyped_storage().data_ptr(),
                           tuple(float(v) for v in t.detach().flatten().tolist()),
                           t.requires_grad, t))
    return tuple(out)


def _hex(v: int) -> str:
    return f"{v:#x}"


def _box(x: int, y: int, w: int, role: str, cls: str, text: str, text_dy: int) -> str:
    """A 44-pixel-high box in a role's tint and colour with a monospace first line."""
    return (svg.rect(x, y, w, 44, fill=svg.TINT[role], stroke=draw.ROLES[role],
                       extra=" stroke-width='1.5'")
            + f"<text class='{cls}' x='{x + 8}' y='{y + text_dy}' text-anchor='start'{_MONO}>"
            f"{svg.esc(text)}</text>")


def _arrow(x1: int, y1: int, x2: int, y2: int) -> str:
    return (f"<path d='M{x1} {y1}L{x2} {y2}' stroke='#111' fill='none' "
            "marker-end='url(#cl-obj-arrow)'/>")


def _panel(x0: int, y0: int, moment: Sequence[Binding], heading: str,
           seen: set[int], *, lang: str = "en") -> tuple[str, int, int]:
    """One moment: names, objects and storages with arrows; returns (svg, width, height).
    Objects and storages whose id / address is not in ``seen`` (an earlier moment) are marked
    "new"."""
    _ = i18n.translator(lang)
    objects: list[int] = []
    storages: list[int] = []
    for b in moment:
        if b.object_id not in objects:
            objects.append(b.object_id)
        if b.storage_ptr not in storages:
            storages.append(b.storage_ptr)
    first = {b.object_id: b for b in reversed(moment)}
    store_values = {b.storage_ptr: b.values for b in reversed(moment)}
    n_vals = max(len(v) for v in store_values.values())
    store_w = max(150, n_vals * draw.CELL + 16)
    x_name, x_obj = x0, x0 + _NAME_W + 40
    x_store = x_obj + _OBJ_W + 40
    top = y0 + 44
    rows = max(len(moment), len(objects), len(storages))
    body = [svg.label(x0, y0 + 14, heading, extra=" font-weight='bold'"),
            svg.label(x_name, top - 6, _("names"), extra=f" fill='{svg.GREY_TEXT}'"),
            svg.label(x_obj, top - 6, _("tensor objects (id)"),
                        extra=f" fill='{svg.GREY_TEXT}'"),
            svg.label(x_store, top - 6, _("storage (data_ptr)"),
                        extra=f" fill='{svg.GREY_TEXT}'")]
    obj_y = {oid: top + i * _ROW for i, oid in enumerate(objects)}
    store_y = {ptr: top + i * _ROW for i, ptr in enumerate(storages)}
    for i, b in enumerate(moment):
        y = top + i * _ROW
        body.append(svg.rect(x_name, y + 8, _NAME_W, 28, fill="#fff", stroke="#111"))
        body.append(f"<text class='cl-name' x='{x_name + _NAME_W // 2}' y='{y + 27}'"
                    f"{_MONO} font-size='14' font-weight='bold'>{svg.esc(b.name)}</text>")
        oy = obj_y[b.object_id] + 22
        body.append(_arrow(x_name + _NAME_W, y + 22, x_obj - 3, oy))
    for oid in objects:
        b = first[oid]
        y = obj_y[oid]
        body.append(_box(x_obj, y, _OBJ_W, "kernel", "cl-object", f"id {_hex(oid)}", 18))
        new = _(" · new") if seen and oid not in seen else ""
        body.append(svg.label(x_obj + 8, y + 36, _("Tensor · requires_grad={requires_grad}",
                                                     requires_grad=b.requires_grad)
                                + new, extra=" font-size='11'"))
        sy = store_y[b.storage_ptr] + 22
        body.append(_arrow(x_obj + _OBJ_W, y + 22, x_store - 3, sy))
    for ptr in storages:
        y = store_y[ptr]
        vals = store_values[ptr]
        body.append(_box(x_store, y, store_w, "input", "cl-storage", _hex(ptr), 15))
        new = _(" (new)") if seen and ptr not in seen else ""
        if new:
            body.append(svg.label(x_store + store_w - 6, y + 15, new, anchor="end",
                                    extra=" font-size='11'"))
        cells = "".join(
            f"<text class='cl-value' x='{x_store + 8 + j * draw.CELL + draw.CELL // 2}' "
            f"y='{y + 35}'>{svg.esc(draw.num(v))}</text>" for j, v in enumerate(vals))
        body.append("".join(svg.rect(x_store + 8 + j * draw.CELL, y + 20, draw.CELL, 20,
                                       fill="#fff", stroke="#999") for j in range(len(vals))))
        body.append(cells)
    width = x_store + store_w - x0
    height = top - y0 + rows * _ROW
    return "".join(body), width, height


def names_objects_storage(*moments: Sequence[Binding], labels: Sequence[str] | None = None,
                          lang: str = "en") -> draw.Figure:
    """Draw one or more moments recorded by :func:`bindings`, one panel each, top to bottom.

    Each panel: the names (left), the tensor objects they are bound to, labelled with their
    real ``id()`` (middle), and the storages those objects use, labelled with their real
    ``untyped_storage().data_ptr()`` and their values (right). Two names with an arrow to one
    object are one object (``is``); two objects with an arrow to one storage share memory.
    ``labels`` head the panels (default "moment 1", "moment 2", ...). Texts are shown in
    ``lang`` (``labels`` are English message ids).
    """
    _ = i18n.translator(lang)
    if not moments:
        raise ValueError("names_objects_storage() needs at least one moment from bindings()")
    if labels is None:
        labels = [_("moment {value}", value=i + 1) for i in range(len(moments))]
    if len(labels) != len(moments):
        raise ValueError(f"{len(labels)} labels for {len(moments)} moments: give one label "
                         "per moment")
    for m in moments:
        if not m or not all(isinstance(b, Binding) for b in m):
            raise TypeError("each moment must be the result of bindings(name=tensor, ...)")
    labels = [_(label) for label in labels]  # the chapter's English labels, in lang
    parts, widths, y = [], [], _M
    seen: set[int] = set()
    for moment, label in zip(moments, labels, strict=True):
        picture, w, h = _panel(_M, y, moment, label, seen, lang=lang)
        seen |= {b.object_id for b in moment} | {b.storage_ptr for b in moment}
        parts.append(picture)
        widths.append(w)
        y += h + 18
    width = max(widths) + 2 * _M
    defs = ("<defs><marker id='cl-obj-arrow' viewBox='0 0 10 10' refX='9' refY='5' "
            "markerWidth='7' markerHeight='7' orient='auto-start-reverse'>"
            "<path d='M0,0 L10,5 L0,10 z' fill='#111'/></marker></defs>")
    desc = " | ".join(
        _("{label}: {text}", label=label, text=_("; ").join(
            _("{name} -> object {hex} -> storage {hex2} {values}", name=b.name,
              hex=_hex(b.object_id), hex2=_hex(b.storage_ptr), values=list(b.values))
            for b in m))
        for m, label in zip(moments, labels, strict=True))
    picture = draw.svg_doc(width, y, _("Names, tensor objects and storage"), desc,
                       defs + "".join(parts))
    caption = _.sentences(
        _("Names → tensor objects → storage, from the real id() and "
          "untyped_storage().data_ptr() values."),
        *(_("{label}: {text}", label=label, text=_summary(m, lang=lang))
          for m, label in zip(moments, labels, strict=True)))
    return draw.Figure(picture, caption)


def _summary(moment: Sequence[Binding], *, lang: str = "en") -> str:
    _ = i18n.translator(lang)
    groups: dict[int, list[str]] = {}
    for b in moment:
        groups.setdefault(b.object_id, []).append(b.name)
    objs = _("; ").join(_(" and ").join(names) + (_(" are one object") if len(names) > 1 else
                                            _(" is its own object"))
                     for names in groups.values())
    n_store = len({b.storage_ptr for b in moment})
    return _("{objs}; {counted} in use.",
             objs=objs, counted=draw.counted(n_store, 'storage', lang=lang))
