from django.db import migrations


def recompute_documents(apps, schema_editor):
    """The documents now hold CJK bigrams (runbooks.search): recompute the stored ones."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from runbooks.search import search_document_refresh

    search_document_refresh()


class Migration(migrations.Migration):
    dependencies = [("runbooks", "0002_search_document")]

    operations = [migrations.RunPython(recompute_documents, migrations.RunPython.noop)]
