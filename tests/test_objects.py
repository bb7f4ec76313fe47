"""convlab.objects (ch3): names → objects → storage, drawn from real id() and data_ptr()."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import torch

from convlab import objects

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str, cls: str) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")
            if t.get("class") == cls]


def test_c_equals_c_plus_one_moves_only_the_name_c() -> None:
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a.detach()
    c = b
    before = objects.bindings(a=a, b=b, c=c)
    c = c + 1
    after = objects.bindings(a=a, b=b, c=c)
    # the records are torch's own numbers
    assert [x.object_id for x in before] == [id(a), id(b), id(b)]
    assert {x.storage_ptr for x in before} == {a.untyped_storage().data_ptr()}
    assert [x.object_id for x in after] == [id(a), id(b), id(c)]
    assert after[2].storage_ptr == c.untyped_storage().data_ptr() != before[2].storage_ptr
    assert after[2].values == (2.0, 3.0, 4.0) and before[2].values == (1.0, 2.0, 3.0)

    fig = objects.names_objects_storage(before, after, labels=["before", "after c = c + 1"])
    # the figure shows every distinct object once per moment, with its real id and address
    assert _texts(fig.svg, "cl-object") == [
        f"id {id(a):#x}", f"id {id(b):#x}",  # before: b and c are one object
        f"id {id(a):#x}", f"id {id(b):#x}", f"id {id(c):#x}"]
    shared, new = a.untyped_storage().data_ptr(), c.untyped_storage().data_ptr()
    assert _texts(fig.svg, "cl-storage") == [f"{shared:#x}", f"{shared:#x}", f"{new:#x}"]
    assert _texts(fig.svg, "cl-value") == ["1", "2", "3", "1", "2", "3", "2", "3", "4"]
    assert _texts(fig.svg, "cl-name") == ["a", "b", "c"] * 2
    assert "before: a is its own object; b and c are one object; 1 storage in use." \
        in fig.caption
    assert "2 storages in use" in fig.caption


def test_in_place_change_keeps_object_and_storage_and_record_keeps_old_values() -> None:
    b = torch.zeros(2)
    before = objects.bindings(b=b)
    b.add_(1)
    after = objects.bindings(b=b)
    assert before[0].object_id == after[0].object_id
    assert before[0].storage_ptr == after[0].storage_ptr == b.untyped_storage().data_ptr()
    assert before[0].values == (0.0, 0.0) and after[0].values == (1.0, 1.0)
    fig = objects.names_objects_storage(before, after)
    assert "(new)" not in fig.svg and "· new" not in fig.svg  # nothing new was made


def test_view_is_a_new_object_on_the_same_storage() -> None:
    a = torch.arange(4.0)
    v = a.view(2, 2)
    (ra, rv) = objects.bindings(a=a, v=v)
    assert ra.object_id != rv.object_id and ra.storage_ptr == rv.storage_ptr
    fig = objects.names_objects_storage((ra, rv))
    assert len(_texts(fig.svg, "cl-object")) == 2 and len(_texts(fig.svg, "cl-storage")) == 1


@pytest.mark.parametrize("call, error, rule", [
    (lambda: objects.bindings(), ValueError, "at least one"),
    (lambda: objects.bindings(a=[1, 2]), TypeError, "a must be a torch.Tensor"),
    (lambda: objects.bindings(a=torch.zeros(9)), ValueError, "at most 8 values"),
    (lambda: objects.names_objects_storage(), ValueError, "at least one moment"),
    (lambda: objects.names_objects_storage(objects.bindings(a=torch.zeros(1)), labels=[]),
     ValueError, "one label per moment"),
    (lambda: objects.names_objects_storage([1, 2]), TypeError, "result of bindings"),
])
def test_bad_input_names_the_rule(call, error, rule) -> None:  # noqa: ANN001
    with pytest.raises(error, match=rule):
        call()
