"""Fresh numeric word problems for issue 26, written as Python literals; writes numbers.jsonl.

Provenance: hand-written from scratch by the `team` helper session on 2026-12-03, before any tuning of
the runtime for issue 26 and without reading the runtime's "asks for a number" gate. Not taken,
paraphrased or translated from any public set (GSM8K, MATH, SVAMP, ...). Phrasings vary on purpose
("End with the number.", "Give just the number.", no instruction at all, Japanese 数字だけで, kanji
numerals, full-width digits). `solution` computes the answer and is never shown to a model. The set is
frozen after its first run: never edit a task; add a new file instead.

    python3 data/team/build_numbers.py && python3 data/team/validate.py
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROVENANCE = ("hand-written 2026-12-03 by the team helper session for issue 26, before tuning, without "
              "reading the number gate; not from any public set; frozen after first run")

EN = [
    ("A jacket costs $80. It is discounted by 25%, then a $5 coupon is taken off. What is the final price "
     "in dollars? End with the number.", "55", "80 * 0.75 - 5"),
    ("A train leaves at 9:40 and arrives at 13:15 the same day. How long is the trip in minutes? Give just "
     "the number.", "215", "(13 * 60 + 15) - (9 * 60 + 40)"),
    ("Maya reads 18 pages a day. Her book has 300 pages and she has already read 66 of them. How many more "
     "days does she need to finish it?", "13", "-(-(300 - 66) // 18)"),
    ("A water tank holds 1,250 liters and is 40% full. How many liters must be added to fill it? End your "
     "reply with the number.", "750", "1250 * 0.6"),
    ("Eggs come in boxes of 12. A bakery uses 150 eggs a week and can only buy whole boxes. How many boxes "
     "does it have to buy each week?", "13", "-(-150 // 12)"),
    ("Three friends share a restaurant bill of $96 plus an 18% tip equally. How much does each of them pay, "
     "in dollars, rounded to the cent?", "37.76", "96 * 1.18 / 3"),
    ("A phone plan costs $15 a month plus $0.10 for every text beyond the first 200. In May Lee sent 340 "
     "texts. What was his bill for May, in dollars?", "29", "15 + (340 - 200) * 0.10"),
    ("Sam is three times as old as his son. In 12 years he will be twice as old as his son. How old is Sam "
     "now?", "36", "36"),
    ("Two numbers add up to 85 and differ by 23. What is the larger one? Reply with the number only.", "54",
     "(85 + 23) // 2"),
    ("A rectangle has a perimeter of 56 cm and its length is three times its width. Find its area in "
     "square centimeters.", "147", "7 * 21"),
    ("A café sold 45 cups of coffee on Monday, twice as many on Tuesday, and 17 fewer on Wednesday than on "
     "Tuesday. How many cups did it sell over the three days?", "208", "45 + 90 + 73"),
    ("An app had 8,000 users. The number grew by 10% in January and then fell by 5% in February. How many "
     "users did it have at the end of February? End with the number.", "8360", "8000 * 1.1 * 0.95"),
    ("A recipe uses 250 g of flour for 4 servings. How much flour, in grams, is needed for 10 servings?",
     "625", "250 / 4 * 10"),
    ("A cyclist rides at 18 km/h for 2.5 hours and then at 12 km/h for 45 minutes. How far does she ride "
     "in total, in km?", "54", "18 * 2.5 + 12 * 0.75"),
    ("A share price rose from $40 to $46. By what percentage did it rise? Give the number without the % "
     "sign.", "15", "(46 - 40) / 40 * 100"),
    ("A school has 420 students and 55% of them are girls. How many boys attend the school?", "189",
     "420 * 45 // 100"),
    ("Six workers build a wall in 10 days. Working at the same rate, how many days would four workers "
     "need?", "15", "6 * 10 / 4"),
    ("A car park charges $3 for the first hour and $2 for each further hour or part of an hour. How much "
     "does it cost to park for 4 hours and 20 minutes, in dollars?", "11", "3 + 4 * 2"),
    ("Lena saves $35 every week. She already has $115 and wants a bike that costs $500. After how many "
     "weeks will she have exactly enough?", "11", "(500 - 115) // 35"),
    ("A printer prints 24 pages per minute. How many seconds does it take to print 90 pages? Just the "
     "number, please.", "225", "90 / 24 * 60"),
    ("The average of five test scores is 82. Four of the scores are 75, 88, 90 and 79. What is the fifth "
     "score?", "78", "5 * 82 - (75 + 88 + 90 + 79)"),
    ("A car uses 6.5 liters of fuel per 100 km, and fuel costs $1.80 per liter. What does the fuel for a "
     "400 km trip cost, in dollars?", "46.8", "6.5 * 4 * 1.8"),
    ("A farm has only chickens and cows: 30 heads and 74 legs in all. How many cows are there?", "7",
     "(74 - 2 * 30) // 2"),
    ("$2,000 is put in a savings account that pays 5% interest per year, compounded once a year. How much "
     "money is in the account after 2 years? End with the number.", "2205", "2000 * 1.05 ** 2"),
    ("A store buys a lamp for $40, marks the price up by 60%, and then sells it at 15% off the marked "
     "price. What is the store's profit in dollars?", "14.4", "40 * 1.6 * 0.85 - 40"),
    ("Pipe A alone fills a pool in 6 hours and pipe B alone fills it in 3 hours. How many hours do they "
     "take together?", "2", "1 / (1 / 6 + 1 / 3)"),
    ("In a jar the ratio of red to blue marbles is 3:5, and there are 24 more blue marbles than red ones. "
     "How many marbles are in the jar?", "96", "8 * 12"),
    ("A 1,440 MB file downloads at 12 MB per second. How many minutes does the download take?", "2",
     "1440 / 12 / 60"),
    ("A bus has 52 seats. 290 people are going on a school trip. How many buses are needed so everyone has "
     "a seat? End with the number.", "6", "-(-290 // 52)"),
    ("A rope 7.5 m long is cut into pieces of 30 cm each. How many whole pieces can be cut?", "25",
     "750 // 30"),
]

JA = [
    ("りんごは１個１２０円です。７個買って１０００円札で払うと、おつりは何円ですか。数字だけで答えてください。",
     "160", "1000 - 120 * 7"),
    ("三百二十ページの本を毎日四十ページずつ読むと、何日で読み終わりますか。", "8", "320 // 40"),
    ("定価２５００円のシャツが２割引きで売られています。売り値は何円ですか。", "2000", "2500 * 0.8"),
    ("時速六十キロメートルで二時間半走ると、何キロメートル進みますか。答えは数字で書いてください。", "150", "60 * 2.5"),
    ("クラスの３６人のうち、３分の２が自転車で通学しています。自転車で通学していない人は何人ですか。", "12",
     "36 - 36 * 2 // 3"),
    ("二千五百円の本と八百円のノートを買いました。合計はいくらですか。最後に数字を書いてください。", "3300",
     "2500 + 800"),
    ("水そうに水が１５リットル入っています。毎分３リットルずつ水を入れると、満杯の６０リットルになるまで何分かかりますか。",
     "15", "(60 - 15) / 3"),
    ("姉は弟より４歳年上で、二人の年齢の合計は２８歳です。姉は何歳ですか。", "16", "(28 + 4) // 2"),
    ("鉛筆を五ダース買い、そのうち十七本を使いました。残りは何本ですか。", "43", "5 * 12 - 17"),
    ("長方形の縦は８センチメートル、横は縦の三倍です。面積は何平方センチメートルですか。", "192", "8 * 24"),
    ("消費税１０％を加えた値段が２２００円でした。税抜きの値段は何円ですか。", "2000", "2200 / 1.1"),
    ("毎月三千円ずつ貯金すると、一年半で合計いくらになりますか。", "54000", "3000 * 18"),
]


def main() -> None:
    lines = []
    for lang, rows in (("en", EN), ("ja", JA)):
        for i, (prompt, answer, solution) in enumerate(rows, 1):
            tid = f"team-math-{i:03d}" if lang == "en" else f"team-math-ja-{i:03d}"
            lines.append(json.dumps({"id": tid, "kind": "number", "lang": lang, "prompt": prompt, "answer": answer,
                                     "solution": solution, "provenance": PROVENANCE}, ensure_ascii=False))
    (HERE / "numbers.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    print(f"wrote {len(lines)} number tasks (en {len(EN)}, ja {len(JA)})")


if __name__ == "__main__":
    main()
