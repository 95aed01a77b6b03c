#!/usr/bin/env python3
"""Produce the project's FIX dictionaries (Specs/dictionaries/) from QuickFIX's spec folder.

    python3 tools/gen-dictionaries.py [--source ../shared/specs/quickfix] [--out Specs/dictionaries]

The output keeps QuickFIX's XML format (so the loader reads shipped files and users' own files
the same way) but normalised: one element per line, two-space indentation, attributes in a fixed
order with double quotes, a provenance comment on top. Before writing, every field, component
and group reference is resolved and every field number checked for duplicates, so a broken input
fails here rather than at load time. Running it twice gives identical files.
"""
import argparse
import os
import sys
import xml.etree.ElementTree as ET

FILES = ["FIX40", "FIX41", "FIX42", "FIX43", "FIX44", "FIX50", "FIX50SP1", "FIX50SP2", "FIXT11"]

ATTRIBUTE_ORDER = {
    "fix": ["type", "major", "minor", "servicepack"],
    "field": ["number", "name", "type", "required"],
    "value": ["enum", "description"],
    "message": ["name", "msgtype", "msgcat"],
    "component": ["name", "required"],
    "group": ["name", "required"],
}


def escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def attributes(element):
    order = ATTRIBUTE_ORDER.get(element.tag, [])
    keys = [k for k in order if k in element.attrib] + sorted(k for k in element.attrib if k not in order)
    return "".join(f' {k}="{escape(element.attrib[k])}"' for k in keys)


def write(element, depth, out):
    pad = "  " * depth
    children = list(element)
    if children:
        out.append(f"{pad}<{element.tag}{attributes(element)}>")
        for child in children:
            write(child, depth + 1, out)
        out.append(f"{pad}</{element.tag}>")
    else:
        out.append(f"{pad}<{element.tag}{attributes(element)}/>")


def check(root, name):
    """Fail on duplicate field numbers and on unresolved field, group or component names."""
    numbers = set()
    fields = set()
    for field in root.find("fields"):
        number = int(field.attrib["number"])
        if number in numbers:
            sys.exit(f"{name}: field number {number} defined twice")
        numbers.add(number)
        fields.add(field.attrib["name"])
    components_node = root.find("components")
    components = {c.attrib["name"] for c in components_node} if components_node is not None else set()
    for section in ("header", "trailer", "messages", "components"):
        node = root.find(section)
        if node is None:
            continue
        for container in node:
            for element in container.iter():
                if element is container and section in ("messages", "components"):
                    continue
                if element.tag in ("field", "group") and element.attrib["name"] not in fields:
                    sys.exit(f"{name}: undefined field {element.attrib['name']}")
                if element.tag == "component" and element.attrib["name"] not in components:
                    sys.exit(f"{name}: undefined component {element.attrib['name']}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root_dir = os.path.dirname(here)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=os.path.join(root_dir, "..", "shared", "specs", "quickfix"))
    parser.add_argument("--out", default=os.path.join(root_dir, "Specs", "dictionaries"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for stem in FILES:
        path = os.path.join(args.source, stem + ".xml")
        tree = ET.parse(path)
        root = tree.getroot()
        check(root, stem)
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               f"<!-- {stem}: derived from QuickFIX's spec/{stem}.xml by tools/gen-dictionaries.py;",
               "     see NOTICE.md. Regenerate rather than edit. -->"]
        write(root, 0, out)
        with open(os.path.join(args.out, stem + ".xml"), "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
        print(f"{stem}.xml: {len(root.find('fields'))} fields, {len(root.find('messages'))} messages")


if __name__ == "__main__":
    main()
