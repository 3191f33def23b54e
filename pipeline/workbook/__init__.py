"""The Excel workbook units fill in: its hidden marks and the template writer."""
