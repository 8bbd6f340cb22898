"""Which answer cards are drawn: the items where the two models differ lead (eval/cards.py pick_items). Fast."""

from eval.cards import pick_items


def rec(item, completion, **scores):
    return {"item": item, "completion": completion, "scores": scores}


def test_cards_lead_with_differences():
    same = (rec("same", "7"), rec("same", "7"))
    text_only = (rec("text", "it is 7"), rec("text", "<reasoning>7</reasoning> 7"))
    parsed = (rec("parsed", "7", parsed=False), rec("parsed", "<answer>8</answer>", parsed=True))
    primary = (rec("primary", "7", correct=False), rec("primary", "<answer>9</answer>", correct=True, parsed=True))
    text_2 = (rec("text2", "a"), rec("text2", "b"))
    pairs = [same, text_only, parsed, primary, text_2]
    assert [p[0]["item"] for p in pick_items(pairs, "correct", 5)] == ["primary", "parsed", "text", "text2", "same"]
    assert [p[0]["item"] for p in pick_items(pairs, "correct", 2)] == ["primary", "parsed"]
    assert pick_items([same], "correct", 3) == [same]  # identical replies are still drawn when nothing else is
