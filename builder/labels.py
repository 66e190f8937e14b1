"""How the builder names a passage or a citation: its document, and its page when it has one."""


def source_label(item: dict) -> str:
    return item["source"] + (f" p. {item['page']}" if item.get("page") else "")
