"""Binary files of one org: selection -> scan -> delta -> tar archives streamed to S3 -> manifest;
then download -> verify -> stage -> move into place; and a verification of the target tree.

Entry points: `export.export_files`, `importer.import_files`, `verify.verify_files`.
"""
