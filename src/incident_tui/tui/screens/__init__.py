"""Dialog screens, one module each; import the class you need where you open it.

They are imported inside the functions that open them, not at the top of a module: they pull
in TextArea and Select, which start-up does not need.
"""
