"""Pure domain: types shared by every layer, the expression compiler, route evaluation."""
