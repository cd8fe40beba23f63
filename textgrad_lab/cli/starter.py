STARTER = "# placeholder {name}\n"
