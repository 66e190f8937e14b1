"""Prompteur's builder UI. Run with `make run` (which also starts the server)."""
import streamlit as st

st.set_page_config(page_title="Prompteur", page_icon="💬", layout="wide")
st.title("Prompteur")
st.write("The builder pages (bots, persona, knowledge, playground, publish, conversations) are being built. "
         "Meanwhile the server's admin API and the `prompteur` command line are ready.")
