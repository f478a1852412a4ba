"""Route modules of the cs blueprint (portal.cs.views.bp), split by theme."""
