"""Fine-tuning the model on the user's repository (kodama fine-tune)."""
