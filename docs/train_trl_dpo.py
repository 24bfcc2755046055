#!/usr/bin/env python3
"""DPO fine-tuning of a prompt model on adstudio's preference pairs, with
Hugging Face TRL, on any number of GPUs (torchrun).

Not run by adstudio's tests: they only check that this file parses
(`python -m py_compile`); training needs `trl`, `transformers`, `datasets`,
`torch` (and `peft` for --lora) and downloads the model from the Hugging
Face hub, neither of which the test machines have.

Input: the table written by

    adstudio prefs export --format parquet --out prefs.parquet

(one row per decisive label; TRL reads its `prompt`, `chosen` and
`rejected` columns: the suggestion instruction for the product and the two
background descriptions). The other columns (ids, hashes, labeler, ...)
are dropped before training.

Usage (one process per GPU):

    torchrun --nproc_per_node 4 docs/train_trl_dpo.py \\
        --data prefs.parquet --model HuggingFaceTB/SmolLM2-360M-Instruct \\
        --out runs/dpo --lora

or on one device: python docs/train_trl_dpo.py --data ... --model ...
"""

import argparse


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="prefs.parquet from `adstudio prefs export`")
    p.add_argument("--model", required=True, help="Hugging Face model id or local folder")
    p.add_argument("--out", default="runs/dpo", help="output folder (checkpoints, final model)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=4, help="per device")
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument("--lr", type=float, default=5e-6)
    p.add_argument("--beta", type=float, default=0.1, help="DPO temperature")
    p.add_argument("--eval-fraction", type=float, default=0.0,
                   help="hold out this share of the pairs for evaluation")
    p.add_argument("--labeler", action="append", default=[],
                   help="keep only labels by this labeler (repeatable)")
    p.add_argument("--humans-only", action="store_true",
                   help="drop labels given by models (source = model)")
    p.add_argument("--lora", action="store_true", help="train a LoRA adapter (needs peft)")
    p.add_argument("--lora-rank", type=int, default=16)
    p.add_argument("--bf16", action="store_true", help="bfloat16 mixed precision")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def load_pairs(args):
    """The export as a `datasets` split (or train/test), DPO columns only."""
    from datasets import load_dataset

    data = load_dataset("parquet", data_files=args.data, split="train")
    if args.labeler:
        wanted = set(args.labeler)
        data = data.filter(lambda row: row["labeler"] in wanted)
    if args.humans_only:
        data = data.filter(lambda row: row["source"] == "human")
    if len(data) == 0:
        raise SystemExit(f"{args.data}: no pairs left to train on")
    data = data.select_columns(["prompt", "chosen", "rejected"])
    if args.eval_fraction > 0:
        split = data.train_test_split(test_size=args.eval_fraction, seed=args.seed)
        return split["train"], split["test"]
    return data, None


def main():
    args = parse_args()
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    train, evaluation = load_pairs(args)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(args.model)
    peft_config = None
    if args.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=args.lora_rank, lora_alpha=2 * args.lora_rank,
                                 lora_dropout=0.05, target_modules="all-linear",
                                 task_type="CAUSAL_LM")
    config = DPOConfig(
        output_dir=args.out,
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        learning_rate=args.lr,
        beta=args.beta,
        bf16=args.bf16,
        seed=args.seed,
        logging_steps=10,
        save_strategy="epoch",
        eval_strategy="epoch" if evaluation is not None else "no",
        report_to="none",
    )
    # Under torchrun the trainer runs data-parallel on its own (one
    # process per GPU, ranks from the environment).
    trainer = DPOTrainer(model=model, args=config, train_dataset=train,
                         eval_dataset=evaluation, processing_class=tokenizer,
                         peft_config=peft_config)
    trainer.train()
    trainer.save_model(args.out)


if __name__ == "__main__":
    main()
